"""Custom actions for the Rasa bot; run with `python -m rasa_sdk --actions actions -p 5055` in `.venv`.

Action classes (`actions.actions`) only translate between the tracker and plain functions in
the sibling modules, which are tested without Rasa.
"""
