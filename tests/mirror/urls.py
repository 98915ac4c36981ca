"""Weight URLs the mirror tests use (original zoo addresses, as the readmes name them)."""

SMALL_SYNTH = (
    "http://mmlab.ie.cuhk.edu.hk/datasets/comp_cars/googlenet_finetune_web_car_iter_10000.caffemodel",
    "https://dl.dropboxusercontent.com/u/38822310/age_net.caffemodel",
    "https://dl.dropboxusercontent.com/u/38822310/gender_net.caffemodel",
    "https://github.com/ishay2b/VanillaCNN/blob/master/ZOO/vanillaCNN.caffemodel?raw=true",
    "https://www.dropbox.com/s/6bbbckxwa14ainq/yearbook_cleaned.caffemodel?dl=0",
)
LENET_URL_PATH = ("/files/github.com/ethereon/caffe-tensorflow/raw/"
                  "d870c51e8fa3452cb210b378c78be7ba4dcc8cf0/examples/mnist/lenet_iter_10000.caffemodel")
