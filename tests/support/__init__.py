"""What the tests import: fakes of Authing, client settings, README examples, signals, bulk runs."""
