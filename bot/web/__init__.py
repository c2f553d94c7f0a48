"""The gateway's pages and HTTP APIs, one blueprint per module: widget API, agent inbox, login, editors' rooms."""
