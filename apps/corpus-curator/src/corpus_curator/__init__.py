"""Corpus curator: builds the demo corpus measured in Llama-3 tokens and uploads it to Spaces."""
