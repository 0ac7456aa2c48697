"""Capacity at SLO per GPU (issue 22): arrival-rate sweeps of each preset through dynamo.replay."""
