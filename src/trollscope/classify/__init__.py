"""Classify: recognise accounts like known operation accounts, and say how well that works."""
