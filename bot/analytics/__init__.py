"""The analytics dashboard's figures and charts, and the demo data they are seeded with."""
