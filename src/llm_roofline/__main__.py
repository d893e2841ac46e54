"""`python -m llm_roofline` is the `llm-roofline` command."""

import sys

from .cli import main

sys.exit(main())
