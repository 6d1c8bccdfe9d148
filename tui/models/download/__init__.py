"""Downloads from the Hugging Face hub that survive interruptions and restarts.

A download is one model: one GGUF file or all parts of a split one (`record`). Its bytes go to
partial files beside a sidecar and are checked before they are moved into the store (`files`);
each part comes over HTTP and continues where it stopped (`transfer`); the queue runs them in
worker threads and tells listeners (`manager`).
"""

from tui.models.download.manager import DownloadManager
from tui.models.download.record import ACTIVE, Download, DownloadError, Part, State

__all__ = ["ACTIVE", "Download", "DownloadError", "DownloadManager", "Part", "State"]
