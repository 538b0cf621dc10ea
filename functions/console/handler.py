"""Console function: the marketer's console's API (/v1/console/...), behind the HTTP API's JWT authorizer.

Who is signed in and the leads are registered at once; each other page's routes at its first request, so a
cold start imports only the domain code of the page it serves."""

from nurture.http.app import api_handler
from nurture.http.console_routes import register_console_routes
from nurture.http.router import DeferredRoutes

ROUTES = (
    register_console_routes,
    DeferredRoutes(("/v1/console/home", "/v1/console/sending"), "nurture.http.console_home", "register_home_routes"),
    DeferredRoutes(("/v1/console/campaigns",), "nurture.http.console_campaigns", "register_campaign_routes"),
    DeferredRoutes(("/v1/console/sequences", "/v1/console/calendar"), "nurture.http.console_campaigns",
                   "register_email_routes"),
    DeferredRoutes(("/v1/console/segments", "/v1/console/leads/search"), "nurture.http.console_segments",
                   "register_segment_routes"),
    DeferredRoutes(("/v1/console/config",), "nurture.http.console_config", "register_config_routes"),
)
lambda_handler = api_handler(ROUTES)
