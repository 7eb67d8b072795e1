"""Adversarial tests (issue 11): each case asserts the absence of the harmful effect and the right answer sent."""
