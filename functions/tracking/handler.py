"""Tracking function: website beacons, email open pixels and email click redirects."""

from nurture.http.app import api_handler
from nurture.http.tracking_routes import register_tracking_routes

lambda_handler = api_handler([register_tracking_routes])
