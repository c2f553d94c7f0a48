"""Clients of the systems the gateway talks to: Rasa, the action server's knowledge-base reload, SMTP, the FAQ."""
