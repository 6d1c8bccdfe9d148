"""`whirr serve`: Ollama's API and the OpenAI API over whirr's library, with the energy of every
answer. Core code (no Textual); Starlette and uvicorn are imported only by `whirr serve`.

    service = Service(paths, config, meter)      # tui.server.service: models, turns, energy
    app = create_app(service, api_key, origins)  # tui.server.app: routes and middleware
"""
