"""A job's thread count holds for torch and for the BLAS libraries under scipy and numpy."""

import subprocess
import sys


def test_limit_threads_caps_torch_and_blas():
    code = (
        "import scipy.linalg, torch; from threadpoolctl import threadpool_info; "
        "from forgetlab.threads import limit_threads; limit_threads(1); "
        "blas = {p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'}; "
        "print(torch.get_num_threads(), sorted(blas))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1 [1]"
