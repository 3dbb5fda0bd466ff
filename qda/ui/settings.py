"""Server settings the app always runs with (the same as `.streamlit/config.toml`).

`qda app` passes them as flags so that they hold wherever qda is started from.
"""

# Interviews are confidential: no usage statistics. 2048 MB fits a 2-hour recording
# even as uncompressed 44.1 kHz stereo WAV (about 1.3 GB).
# The server listens on this computer only: no one else on the network can open the
# project, and Streamlit does not look up the machine's external address. It talks only
# to pages that reached it by this computer's own names: a web page elsewhere that points
# a name of its own at 127.0.0.1 (DNS rebinding) gets no connection to the app.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
STREAMLIT_SETTINGS: dict[str, str | list[str]] = {
    "browser.gatherUsageStats": "false",
    "server.address": "localhost",
    "server.allowedHosts": list(LOCAL_HOSTS),
    "server.headless": "true",
    "server.maxUploadSize": "2048",
    "server.runOnSave": "false",
    "server.fileWatcherType": "none",
    "client.toolbarMode": "minimal",
    "theme.base": "light",
}

STREAMLIT_FLAGS: list[str] = [
    f"--{key}={value}"
    for key, values in STREAMLIT_SETTINGS.items()
    for value in (values if isinstance(values, list) else [values])
]
