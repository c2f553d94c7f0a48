"""Running Rasa 3.6 (its own Python 3.10 venv) and our action server (the main venv) together.

Rasa cannot share a venv with the knowledge base (Python < 3.11, TensorFlow), so this package
drives it as a subprocess: train when the dialogue files changed, start, wait, stop.
"""
