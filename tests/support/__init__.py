"""What the tests of every folder share, by purpose: `app` (the one test gateway), `login` (logging in over
HTTP), `browser` (Chromium, and logging in there), the scripted Rasa and widget customer (`gateway`), scripted
bot replies, mock Messenger/Twilio APIs, and the helpers of single topics (channels, FAQ edits, privacy, …)."""
