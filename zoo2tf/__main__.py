import sys

from zoo2tf.cli import main

sys.exit(main())
