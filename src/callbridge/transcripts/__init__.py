"""Transcripts: real-time and bulk ingest, the conversation's entries, reading, redacting and uploading them."""
