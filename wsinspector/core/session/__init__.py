"""One interface over a session, live or stored: what the timeline, the detail pane, the graph, filters,
export and tests made from sessions read."""

from wsinspector.core.session.interface import FrameColumns, Session
from wsinspector.core.session.messages import MessageStream, assemble

__all__ = ["FrameColumns", "MessageStream", "Session", "assemble"]
