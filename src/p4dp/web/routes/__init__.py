"""Route modules: the app includes the `router` of every module here (`app.discover_routers`).

Each route declares who may call it with `p4dp.web.security.allow`; a route without it is refused
to everyone.
"""
