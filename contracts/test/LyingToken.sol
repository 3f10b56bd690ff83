// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A token that lies: `transferFrom` and `transfer` return true without moving anything,
/// and `balanceOf` reports `reported` for every account (settable, so a test can make the
/// adjudicator's balance look unchanged or even lower after a "transfer").
contract LyingToken {
    /// @notice What `balanceOf` answers for every account.
    uint256 public reported;
    /// @notice Amount by which `transferFrom` lowers `reported`, to fake a shrinking balance.
    uint256 public shrinkBy;

    /// @notice Sets the balance every account appears to hold.
    function setReported(uint256 reported_) external {
        reported = reported_;
    }

    /// @notice Makes each `transferFrom` lower the reported balance by `shrinkBy_`.
    function setShrinkBy(uint256 shrinkBy_) external {
        shrinkBy = shrinkBy_;
    }

    /// @notice Always `reported`.
    function balanceOf(address) external view returns (uint256) {
        return reported;
    }

    /// @notice Claims success; moves nothing.
    function transfer(address, uint256) external pure returns (bool) {
        return true;
    }

    /// @notice Claims success; moves nothing (and may lower the reported balance).
    function transferFrom(address, address, uint256) external returns (bool) {
        if (shrinkBy != 0) reported -= shrinkBy;
        return true;
    }

    /// @notice Claims success.
    function approve(address, uint256) external pure returns (bool) {
        return true;
    }
}
