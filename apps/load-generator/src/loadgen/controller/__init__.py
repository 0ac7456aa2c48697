"""The scenario controller (issue 11): auto/manual/stop modes over the ports in ports.py."""
