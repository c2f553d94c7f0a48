"""The conversation core: a customer message in and the replies out, states and handoff, CSAT, availability,
transcripts, and capturing what the bot could not answer."""
