"""One router per resource.

Every route handler is `async def`: the engine lives on the event loop and is not thread-safe,
and FastAPI would run a plain `def` handler in its thread pool.
"""
