"""The frame model: the packed header layout every layer reads frames through."""
