import sys

from project_viva.cli import main

sys.exit(main())
