"""Tests of the failure vocabulary: the three roots and where each is handled."""
