// Coverage of the product contracts only: mocks and attackers under contracts/test/ are skipped.
module.exports = {
  skipFiles: ["test/"],
};
