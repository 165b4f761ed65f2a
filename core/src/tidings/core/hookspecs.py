"""placeholder, replaced below"""
import pluggy

hookimpl = pluggy.HookimplMarker("tidings")
