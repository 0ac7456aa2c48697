"""Capacity at SLO per GPU: arrival-rate sweeps of each preset through dynamo.replay."""
