"""Console function: the marketer's console's API (/v1/console/...), behind the HTTP API's JWT authorizer."""

from nurture.http.app import api_handler
from nurture.http.console_campaigns import register_campaign_routes, register_email_routes
from nurture.http.console_config import register_config_routes
from nurture.http.console_home import register_home_routes
from nurture.http.console_routes import register_console_routes
from nurture.http.console_segments import register_segment_routes

lambda_handler = api_handler([register_console_routes, register_home_routes, register_campaign_routes,
                              register_email_routes, register_segment_routes, register_config_routes])
