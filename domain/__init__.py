"""The pure domain model of SSBTEK Core: aggregates, events, value objects and rules.

Nothing here performs I/O, reads a clock or the environment, or knows about gRPC,
SQL or protobuf. Time, randomness and keys come in from the application layer.
"""
