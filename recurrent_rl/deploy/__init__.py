"""Deployment: the trained policy exported to run without this package."""
