"""ordercycle.policies: every decision of the order cycle, behind small typed interfaces.

This package imports neither the simulator nor the reports, so a production decision
service can run the same policy code without SimPy.
"""
