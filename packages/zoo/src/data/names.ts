/**
 * Class names of MNIST: the digits `'0'` to `'9'` (label k is digit k).
 *
 * @example
 * ```ts
 * MNIST_CLASS_NAMES[7]; // '7'
 * ```
 */
export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/**
 * Class names of Fashion-MNIST, in label order (as in the dataset's original release).
 *
 * @example
 * ```ts
 * FASHION_MNIST_CLASS_NAMES[9]; // 'Ankle boot'
 * ```
 */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);
