"""Customers: one identity across channels, and what is stored about them (GDPR export/erasure, retention)."""
