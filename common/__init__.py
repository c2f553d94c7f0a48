"""What the gateway and the action server both use, without Flask or a database: PII masking, the feedback
log, and the payloads the action server sends the gateway."""
