"""Broker adapters. The paper broker (`paper.py`) is the first: a simulated
broker with its own persisted book, driven by the event log."""
