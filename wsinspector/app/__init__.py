"""Controllers: QObjects without widgets wiring net -> core -> store, exposing state through signals."""
