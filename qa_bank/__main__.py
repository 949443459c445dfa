import sys

from qa_bank.cli import main

sys.exit(main())
