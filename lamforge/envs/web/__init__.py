"""The web environment: Chromium + Playwright on MiniWoB++ pages (`lamforge.envs.web.env`)."""
