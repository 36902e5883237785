"""The SSBTEK version 10 SOAP facade: a second entry point to the same ``Queries`` saga."""
