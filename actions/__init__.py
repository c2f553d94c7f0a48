"""Custom actions for the Rasa bot; run with `python -m actions.server --actions actions -p 5055` in `.venv`.

Action classes (`actions.actions`) only translate between the tracker and plain functions in
the sibling modules, which are tested without Rasa.
"""
