"""The turn: a user message in, context built from everything below, the reply streamed out and saved."""
