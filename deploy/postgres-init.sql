-- compose.yaml: Rasa's tracker store gets its own database beside the gateway's (POSTGRES_DB).
CREATE DATABASE auskunft_trackers OWNER auskunft;
