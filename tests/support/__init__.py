"""Helpers the tests share: loopback servers, fakes, the Pulumi mocks harness, test images."""
