"""Runner processes: each loaded local model answers from its own process.

The runner's main thread drives llama.cpp with the in-process engine (LlamaEngine), so
generation never competes with the app's UI for the GIL, a llama.cpp crash ends only the
runner, and the runner owns its thread count. whirr reaches it through `RunnerEngine`, which
implements the same Engine contract as every other engine.

    protocol.py    length-prefixed JSON frames, and the request/statistics encodings
    process.py     the runner's main (`python -m tui.engine.runner`)
    connection.py  one runner seen from whirr: spawning it, routing its events, noticing its end
    client.py      RunnerEngine: the Engine contract over a runner process
    registry.py    one small file per runner, so `whirr ps` lists what is loaded
"""
