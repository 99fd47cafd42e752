"""Helpers the tests import: fakes of Authing, README examples, connection counts, signals."""
