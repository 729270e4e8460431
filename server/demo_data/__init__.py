"""The sample texts of the demo review: drafts of laws and an annex (server/demo.py)."""
