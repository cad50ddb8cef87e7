"""Workshop tools: a round-based strategy game (`sim.workshop.game`), its reports
(`sim.workshop.report`) and the live browser app (`sim.workshop.app`, needs the `app` extra).
"""
