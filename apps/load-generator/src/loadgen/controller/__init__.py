"""The scenario controller: auto/manual/stop modes over the ports in ports.py."""
