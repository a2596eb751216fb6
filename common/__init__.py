"""What the van, the hub and the provisioning tool share that is not the domain (docs/architecture.md).

``edge.core`` stays pure (no Flask, no I/O), and the hub may not import the van's store or web app; so
what both sides do the same way — web security, the transaction helper, the keys folder — lives here,
once, instead of as near-copies that drift apart. This package imports ``edge.core`` and nothing else
of the project.
"""
