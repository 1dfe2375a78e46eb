/** A minimal consumer of the kernel jar on the module path (see ../../run, pass "modules"). */
module dev.focalsimd.modcheck {
  requires dev.focalsimd;
}
