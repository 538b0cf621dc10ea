"""Audiences: which leads a segment of config/segments.yaml holds. One evaluator serves campaigns, sequence
enrolment, the console and `nurture segment`."""

from nurture.domain.audiences.evaluate import PROFILE_ATTRIBUTES, SegmentEvaluator, UnknownSegment

__all__ = ["PROFILE_ATTRIBUTES", "SegmentEvaluator", "UnknownSegment"]
